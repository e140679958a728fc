//! The staff digest (*cảnh báo sớm*, issue #17): each working morning, every official and
//! leader with an e-mail address is told of the dossiers assigned to them that are due
//! soon or overdue, and every leader also of the agency's dossiers whose current stage is
//! late though the dossier is not; a clerk of the desk's decided dossiers waiting to be
//! returned that are due soon or overdue. The classification is
//! [`crate::core::warning`]; the message is the template `staff_digest`
//! (config/templates/staff_digest.toml), written to the outbox with
//! [`super::notify::enqueue`] under the key `digest:<username>:<yyyy-mm-dd>` — once per
//! person and day, however many processes prepare it.
//!
//! NĐ 118/2025/NĐ-CP Art. 19(6): the agency that will be late apologises at the latest
//! the day before the due date; the digest is what lets it know in time.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;

use super::notify::{self, Outgoing};
use super::queue::Tab;
use super::Role;
use crate::app::App;
use crate::core::route;
use crate::core::text::escape_html;
use crate::core::warning::{self, Moments, Standing};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::store::dossiers::{QueueLineRow, QueueProgressRow};
use crate::store::users::RecipientRow;
use crate::store::{from_db, to_db, StoreError};

/// The notification template of the digest (`config/templates/staff_digest.toml`).
pub const TEMPLATE: &str = "staff_digest";

/// Lines of each list written into the message; the counts are of every dossier, and the
/// queue's tab holds the rest.
pub const LINES_SHOWN: usize = 30;

/// The roles that get a digest.
pub const ROLES: [Role; 3] = [Role::Official, Role::Leader, Role::Clerk];

/// The statuses whose dossiers a clerk's desk returns (*chờ trả kết quả*).
const DECIDED: [&str; 2] = ["approved", "refused"];

/// One dossier of a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestLine {
    pub code: String,
    pub procedure_code: String,
    /// The procedure's name in the catalogue in force (its code when retired).
    pub procedure_name: String,
    pub applicant_name: String,
    pub status: String,
    pub assignee: Option<String>,
    /// The step of the route the dossier is in, by name.
    pub step: Option<String>,
    /// When the stage the dossier is in is due (the last consecutive step at its agency).
    pub stage_due_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    /// Working minutes from the digest's moment to the due moment; negative past it.
    pub remaining_minutes: i64,
    /// Working minutes the stage is past its due moment (at-risk lines; 0 otherwise).
    pub stage_late_minutes: i64,
}

/// A person's digest at a moment (*bản tin cảnh báo sớm*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestView {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub agency_code: String,
    pub agency_name: String,
    pub email: Option<String>,
    /// The moment it is prepared for, and its local date.
    pub at: DateTime<Utc>,
    pub date: NaiveDate,
    /// "Due soon" is due at or before this moment ([`warning::due_soon_until`]).
    pub due_soon_until: DateTime<Utc>,
    /// Sắp đến hạn, soonest first.
    pub due_soon: Vec<DigestLine>,
    /// Quá hạn, most overdue first.
    pub overdue: Vec<DigestLine>,
    /// Leaders: có nguy cơ trễ hạn — the stage late, the dossier not; soonest due first.
    pub at_risk: Vec<DigestLine>,
}

impl DigestView {
    /// Nothing to tell: no message is sent.
    pub fn is_empty(&self) -> bool {
        self.due_soon.is_empty() && self.overdue.is_empty() && self.at_risk.is_empty()
    }
}

/// The day whose digests this process has prepared, so that the mail worker's loop
/// prepares them once a day (another process that prepares them again enqueues nothing
/// new: the outbox keys).
#[derive(Debug, Default)]
pub struct DigestMemo {
    pub(crate) done: std::sync::Mutex<Option<NaiveDate>>,
}

/// What an agency's digests are made of, read once for all its recipients.
struct AgencyRows {
    /// Held there with the clock running, due by the horizon, every assignee.
    running: Vec<(QueueLineRow, QueueProgressRow)>,
    /// Decided, back at the desk, due by the horizon.
    decided: Vec<(QueueLineRow, QueueProgressRow)>,
    /// The at-risk candidates (current step late, dossier not).
    step_late: Vec<(QueueLineRow, QueueProgressRow)>,
    /// The routes of all of them, by dossier.
    routes: HashMap<String, Vec<route::Step>>,
}

impl App {
    /// The digest of staff account `username` at `now`, whether or not it has an e-mail
    /// address (`motcua digest --user U`). `unknown_account` (404) when there is no such
    /// account; `no_digest` (422) for a role that gets none (admin, inspector, portal).
    pub fn digest_for(&self, username: &str, now: DateTime<Utc>) -> AppResult<DigestView> {
        let r = self.store.recipient(username)?.ok_or_else(|| {
            AppError::new(
                ErrorKind::NotFound,
                "unknown_account",
                format!("Không có tài khoản \"{username}\""),
            )
        })?;
        let role = Role::parse(&r.role)
            .filter(|r| ROLES.contains(r))
            .ok_or_else(|| {
                AppError::invalid(
                    "no_digest",
                    "Chỉ chuyên viên, lãnh đạo và cán bộ Bộ phận Một cửa nhận bản tin cảnh báo sớm",
                )
            })?;
        let rows = self.agency_rows(&r.agency_code, &[(role, Some(username))], now)?;
        self.digest_of(&r, role, &rows, now)
    }

    /// Whether the morning digests are due at `now`: a working day of the calendar, at or
    /// after `[mail] digest_at` local time.
    pub fn digest_time(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.settings.offset);
        self.calendar.is_working_day(local.date_naive()) && local.time() >= self.settings.digest_at
    }

    /// The digests that would be sent at `now`, whatever the day and hour: one for every
    /// enabled official, leader and clerk with an e-mail address and something to be told,
    /// by agency and username. Each agency's dossiers are read once for all its
    /// recipients.
    pub fn pending_digests(&self, now: DateTime<Utc>) -> AppResult<Vec<DigestView>> {
        let roles: Vec<&str> = ROLES.iter().map(|r| r.as_str()).collect();
        let mut recipients = self.store.digest_recipients(&roles)?;
        // By agency and username byte by byte, whatever the database's collation.
        recipients
            .sort_by(|a, b| (&a.agency_code, &a.username).cmp(&(&b.agency_code, &b.username)));
        let mut by_agency: BTreeMap<&str, Vec<(&RecipientRow, Role)>> = BTreeMap::new();
        for r in &recipients {
            if let Some(role) = Role::parse(&r.role) {
                by_agency
                    .entry(r.agency_code.as_str())
                    .or_default()
                    .push((r, role));
            }
        }
        let mut out = Vec::new();
        for (agency, people) in by_agency {
            let who: Vec<(Role, Option<&str>)> =
                people.iter().map(|(_, role)| (*role, None)).collect();
            let rows = self.agency_rows(agency, &who, now)?;
            for (r, role) in people {
                let view = self.digest_of(r, role, &rows, now)?;
                if view.email.is_some() && !view.is_empty() {
                    out.push(view);
                }
            }
        }
        Ok(out)
    }

    /// Prepares the morning digests at `now` ([`App::pending_digests`]) when they are due
    /// ([`App::digest_time`]): each goes to the outbox as template `staff_digest` under the
    /// key `digest:<username>:<yyyy-mm-dd>`, so that a person gets one a day however many
    /// processes prepare it. Returns how many were handed to the outbox: 0 on a rest day,
    /// before the time, and once this process has prepared the day's (the mail worker
    /// calls it on every turn of its loop).
    pub fn prepare_digests(&self, now: DateTime<Utc>) -> AppResult<usize> {
        if !self.digest_time(now) {
            return Ok(0);
        }
        let today = now.with_timezone(&self.settings.offset).date_naive();
        if self
            .digest_memo
            .done
            .lock()
            .is_ok_and(|d| *d == Some(today))
        {
            return Ok(0);
        }
        let views = self.pending_digests(now)?;
        for view in &views {
            let message = Outgoing {
                template: TEMPLATE.into(),
                to: view.email.clone(),
                dossier_code: None,
                key: format!("digest:{}:{}", view.username, today.format("%Y-%m-%d")),
                vars: self.digest_vars(view),
            };
            self.store.write(None, |conn| {
                notify::enqueue(conn, &message, now)?;
                Ok::<_, StoreError>(())
            })?;
        }
        if let Ok(mut d) = self.digest_memo.done.lock() {
            *d = Some(today);
        }
        tracing::info!(digests = views.len(), date = %today, "staff digests prepared");
        Ok(views.len())
    }

    /// The end of the due-soon horizon at local `now`.
    fn due_soon_until(&self, now: DateTime<FixedOffset>) -> AppResult<DateTime<FixedOffset>> {
        warning::due_soon_until(now, self.settings.digest_due_within_days, &self.deadlines())
            .map_err(|e| {
                tracing::error!(error = %e, "the digest's horizon is out of the calendar's range");
                AppError::internal()
            })
    }

    /// Reads what the digests of `who` (role, and the one assignee when a single person's
    /// digest is made) at `agency` need.
    fn agency_rows(
        &self,
        agency: &str,
        who: &[(Role, Option<&str>)],
        now: DateTime<Utc>,
    ) -> AppResult<AgencyRows> {
        let local = now.with_timezone(&self.settings.offset);
        let until = to_db(self.due_soon_until(local)?.with_timezone(&Utc));
        let assigned: Vec<Option<&str>> = who
            .iter()
            .filter(|(r, _)| matches!(r, Role::Official | Role::Leader))
            .map(|(_, a)| *a)
            .collect();
        // One person: their own; several: everyone's at the agency, read once.
        let running = match assigned.as_slice() {
            [] => Vec::new(),
            [one] => self.store.due_by(agency, &RUNNING, until, *one)?,
            _ => self.store.due_by(agency, &RUNNING, until, None)?,
        };
        let decided = if who.iter().any(|(r, _)| *r == Role::Clerk) {
            self.store.due_by(agency, &DECIDED, until, None)?
        } else {
            Vec::new()
        };
        let step_late = if who.iter().any(|(r, _)| *r == Role::Leader) {
            self.store.step_late(agency, to_db(now))?
        } else {
            Vec::new()
        };
        let mut codes: Vec<String> = running
            .iter()
            .chain(&decided)
            .chain(&step_late)
            .filter(|(_, p)| p.current_step.is_some())
            .map(|(d, _)| d.code.clone())
            .collect();
        codes.sort();
        codes.dedup();
        let mut routes: HashMap<String, Vec<route::Step>> = HashMap::new();
        for chunk in codes.chunks(500) {
            for s in self.store.steps_of_many(chunk)? {
                routes
                    .entry(s.dossier_code.clone())
                    .or_default()
                    .push(super::processing::step_of(&s, self.settings.offset));
            }
        }
        Ok(AgencyRows {
            running,
            decided,
            step_late,
            routes,
        })
    }

    /// The digest of recipient `r` (role `role`) from its agency's rows.
    fn digest_of(
        &self,
        r: &RecipientRow,
        role: Role,
        rows: &AgencyRows,
        now: DateTime<Utc>,
    ) -> AppResult<DigestView> {
        let offset = self.settings.offset;
        let local = now.with_timezone(&offset);
        let until = self.due_soon_until(local)?;
        let mut view = DigestView {
            username: r.username.clone(),
            full_name: r.full_name.clone(),
            role,
            agency_code: r.agency_code.clone(),
            agency_name: self
                .agencies
                .get(&r.agency_code)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| r.agency_code.clone()),
            email: r.email.clone(),
            at: now,
            date: local.date_naive(),
            due_soon_until: until.with_timezone(&Utc),
            due_soon: Vec::new(),
            overdue: Vec::new(),
            at_risk: Vec::new(),
        };
        let mine: Box<dyn Iterator<Item = &(QueueLineRow, QueueProgressRow)>> = match role {
            Role::Official | Role::Leader => Box::new(
                rows.running
                    .iter()
                    .filter(|(_, p)| p.assignee.as_deref() == Some(r.username.as_str())),
            ),
            Role::Clerk => Box::new(rows.decided.iter()),
            _ => Box::new(std::iter::empty()),
        };
        for (d, p) in mine {
            let Some((line, w)) = self.line(d, p, rows, local, until) else {
                continue;
            };
            match w.standing {
                Standing::DueSoon => view.due_soon.push(line),
                Standing::Overdue => view.overdue.push(line),
                Standing::InTime => {}
            }
        }
        if role == Role::Leader {
            for (d, p) in &rows.step_late {
                if let Some((line, w)) = self.line(d, p, rows, local, until) {
                    if w.at_risk {
                        view.at_risk.push(line);
                    }
                }
            }
        }
        Ok(view)
    }

    /// A dossier's line and warning at local `now`; `None` without a due moment.
    fn line(
        &self,
        d: &QueueLineRow,
        p: &QueueProgressRow,
        rows: &AgencyRows,
        now: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Option<(DigestLine, warning::Warning)> {
        let offset = self.settings.offset;
        let due = from_db(d.due_at?).with_timezone(&offset);
        // The stage the dossier is in: from its current step to the last consecutive
        // step at the same agency, due when that one is.
        let stage = p.current_step.and_then(|i| {
            let steps = rows.routes.get(&d.code)?;
            let i = usize::try_from(i).ok().filter(|i| *i < steps.len())?;
            Some((
                steps[i].name.clone(),
                steps[route::stage_end(steps, i)].due_at,
            ))
        });
        let w = warning::classify(
            &Moments {
                due_at: due,
                stage_due_at: stage.as_ref().map(|(_, t)| *t),
                clock_stopped: p.clock_stopped_at.is_some(),
            },
            now,
            until,
        );
        let engine = self.deadlines();
        let remaining_minutes = if now > due {
            -engine.working_minutes_between(due, now)
        } else {
            engine.working_minutes_between(now, due)
        };
        let stage_late_minutes = match &stage {
            Some((_, t)) if now > *t => engine.working_minutes_between(*t, now),
            _ => 0,
        };
        Some((
            DigestLine {
                code: d.code.clone(),
                procedure_code: d.procedure_code.clone(),
                procedure_name: self
                    .catalogue
                    .get(&d.procedure_code)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| d.procedure_code.clone()),
                applicant_name: d.applicant_name.clone(),
                status: d.status.clone(),
                assignee: p.assignee.clone(),
                step: stage.as_ref().map(|(n, _)| n.clone()),
                stage_due_at: stage.map(|(_, t)| t.with_timezone(&Utc)),
                due_at: due.with_timezone(&Utc),
                remaining_minutes,
                stage_late_minutes,
            },
            w,
        ))
    }

    /// The variables of the `staff_digest` template for `view`: the person, the agency,
    /// the date, the counts, each list as text and as escaped HTML, the links to the
    /// queue's tabs. Never an applicant's ID number or a lookup pin.
    pub fn digest_vars(&self, view: &DigestView) -> BTreeMap<String, String> {
        let base = &self.settings.public_base_url;
        let per_day = self.calendar.hours().minutes_per_day();
        let offset = self.settings.offset;
        let moment = |t: DateTime<Utc>| {
            t.with_timezone(&offset)
                .format("%H:%M %d/%m/%Y")
                .to_string()
        };
        let tab = |t: Tab, mine: bool| {
            format!(
                "{base}/hang-doi?tab={}{}",
                t.slug(),
                if mine { "&can-bo=me" } else { "" }
            )
        };
        let mine = matches!(view.role, Role::Official | Role::Leader);
        let (soon_url, overdue_url) = match view.role {
            Role::Clerk => (tab(Tab::ToReturn, false), tab(Tab::ToReturn, false)),
            _ => (tab(Tab::DueSoon, mine), tab(Tab::Overdue, mine)),
        };
        let at_risk_url = tab(Tab::Todo, false);
        let dossier_url = |code: &str| {
            format!(
                "{base}/ho-so/{}",
                percent_encoding::utf8_percent_encode(code, percent_encoding::NON_ALPHANUMERIC)
            )
        };
        // One line of a list: text, HTML.
        let render = |l: &DigestLine, what: &str| -> (String, String) {
            let time = match what {
                "at_risk" => format!(
                    "bước chậm {}; hồ sơ còn {}",
                    warning::working_span(l.stage_late_minutes, per_day),
                    warning::working_span(l.remaining_minutes, per_day)
                ),
                _ if l.remaining_minutes < 0 => {
                    format!(
                        "quá {}",
                        warning::working_span(l.remaining_minutes, per_day)
                    )
                }
                _ => format!(
                    "còn {}",
                    warning::working_span(l.remaining_minutes, per_day)
                ),
            };
            let step = l
                .step
                .as_deref()
                .map(|s| format!(" | Bước: {s}"))
                .unwrap_or_default();
            let stage_due = match (what, l.stage_due_at) {
                ("at_risk", Some(t)) => format!(" | Hạn của bước: {}", moment(t)),
                _ => String::new(),
            };
            let url = dossier_url(&l.code);
            let text = format!(
                "- {} | {} | {}{step}{stage_due} | Hạn: {} ({time})\n  {url}",
                l.code,
                l.procedure_name,
                l.applicant_name,
                moment(l.due_at),
            );
            let html = format!(
                "<li><a href=\"{}\">{}</a> — {} — {}{}{} — hạn {} ({})</li>",
                escape_html(&url),
                escape_html(&l.code),
                escape_html(&l.procedure_name),
                escape_html(&l.applicant_name),
                l.step
                    .as_deref()
                    .map(|s| format!(" — bước: {}", escape_html(s)))
                    .unwrap_or_default(),
                match (what, l.stage_due_at) {
                    ("at_risk", Some(t)) => format!(" — hạn của bước {}", moment(t)),
                    _ => String::new(),
                },
                moment(l.due_at),
                escape_html(&time),
            );
            (text, html)
        };
        let list = |lines: &[DigestLine], what: &str, url: &str| -> (String, String) {
            if lines.is_empty() {
                return (
                    "Không có hồ sơ nào.".into(),
                    "<p>Không có hồ sơ nào.</p>".into(),
                );
            }
            let (mut text, mut html) = (Vec::new(), vec!["<ul>".to_string()]);
            for l in lines.iter().take(LINES_SHOWN) {
                let (t, h) = render(l, what);
                text.push(t);
                html.push(h);
            }
            html.push("</ul>".into());
            if lines.len() > LINES_SHOWN {
                let more = lines.len() - LINES_SHOWN;
                text.push(format!("… và {more} hồ sơ khác: {url}"));
                html.push(format!(
                    "<p>… và {more} hồ sơ khác: <a href=\"{}\">xem tất cả</a></p>",
                    escape_html(url)
                ));
            }
            (text.join("\n"), html.join("\n"))
        };
        let (due_soon_text, due_soon_html) = list(&view.due_soon, "due_soon", &soon_url);
        let (overdue_text, overdue_html) = list(&view.overdue, "overdue", &overdue_url);
        // The leaders' section whole (heading included), empty for everyone else.
        let (at_risk_text, at_risk_html) = if view.role == Role::Leader {
            let (t, h) = list(&view.at_risk, "at_risk", &at_risk_url);
            let heading = format!(
                "Hồ sơ có nguy cơ trễ hạn của cơ quan (bước đang xử lý đã quá hạn của bước): {}",
                view.at_risk.len()
            );
            (
                format!("{heading}\n{t}\n"),
                format!("<h2>{}</h2>\n{h}", escape_html(&heading)),
            )
        } else {
            (String::new(), String::new())
        };
        let mut summary = vec![
            format!("{} quá hạn", view.overdue.len()),
            format!("{} sắp đến hạn", view.due_soon.len()),
        ];
        if view.role == Role::Leader {
            summary.push(format!("{} có nguy cơ trễ hạn", view.at_risk.len()));
        }
        let days = self.settings.digest_due_within_days;
        BTreeMap::from([
            ("name".into(), view.full_name.clone()),
            ("agency".into(), view.agency_name.clone()),
            ("date".into(), view.date.format("%d/%m/%Y").to_string()),
            ("summary".into(), summary.join(", ")),
            ("due_soon_count".into(), view.due_soon.len().to_string()),
            ("overdue_count".into(), view.overdue.len().to_string()),
            ("at_risk_count".into(), view.at_risk.len().to_string()),
            ("due_within".into(), format!("{days} ngày làm việc")),
            ("due_soon_until".into(), moment(view.due_soon_until)),
            ("due_soon_text".into(), due_soon_text),
            ("due_soon_html".into(), due_soon_html),
            ("overdue_text".into(), overdue_text),
            ("overdue_html".into(), overdue_html),
            ("at_risk_text".into(), at_risk_text),
            ("at_risk_html".into(), at_risk_html),
            ("due_soon_url".into(), soon_url),
            ("overdue_url".into(), overdue_url),
            ("queue_url".into(), format!("{base}/hang-doi")),
        ])
    }
}

/// The statuses whose dossiers have their clock running at an agency.
const RUNNING: [&str; 2] = ["received", "in_progress"];
