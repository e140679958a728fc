//! Notifications (*thông báo*) to applicants and staff through a transactional outbox
//! (issue #17): a message is written as an outbox row in the same transaction as the
//! change that causes it, and a worker in every server process sends the rows through a
//! [`Channel`] (e-mail through lettre now).
//!
//! NĐ 118/2025/NĐ-CP Art. 17(2)(c) (online dossier received or to be corrected), Art. 19(5)
//! (supplement request), Art. 19(6) (re-appointment with the apology, "đồng thời gửi thông
//! báo đến tổ chức, cá nhân qua thư điện tử…").
//!
//! Templates are data: `config/templates/<template>.toml` with `subject`, `text` and
//! `html`. In them `{{name}}` is replaced by the variable `name` (HTML-escaped in `html`),
//! and `{{{name}}}` by the variable as it is (for a fragment the code has escaped itself).
//!
//! **Delivery.** At least once: a row is marked sent after the channel accepted it. A
//! worker that dies between the two leaves an attempt without an end; when its lease runs
//! out another worker sends the row again, with the same `Message-ID`, so that the
//! duplicate is recognisable (and most mail systems drop it).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::config::ConfigError;
use crate::core::notify::{fill, message_key, retry_delay_s, templates_for, REQUIRED_TEMPLATES};
use crate::store::dossiers::DossierRow;
use crate::store::outbox::{self, AttemptEnd, NewOutboxRow, OutboxRow};
use crate::store::{from_db, to_db, DbConnection, StoreError, StoreResult};

/// One message to send, written to the outbox inside the caller's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The template's name: `config/templates/<template>.toml`.
    pub template: String,
    /// The recipient's e-mail address; `None` when there is none (the row is kept as
    /// "not reachable" and counted, never sent).
    pub to: Option<String>,
    /// The dossier it is about, if any.
    pub dossier_code: Option<String>,
    /// Unique per message: a second enqueue with the same key is ignored (a retried
    /// command, or two processes preparing the same digest, send once). For example
    /// `"<code>:<event seq>:<template>"` or `"digest:<username>:<yyyy-mm-dd>"`.
    pub key: String,
    /// The template's variables.
    pub vars: BTreeMap<String, String>,
}

/// Writes `message` to the outbox on `conn`, in the caller's transaction; false when a
/// message with the same key was written before (nothing is written again). The row is
/// counted for the receiving agency of the dossier it names.
pub fn enqueue(
    conn: &mut DbConnection,
    message: &Outgoing,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let agency_code = match &message.dossier_code {
        Some(code) => outbox::receiving_agency_of(conn, code)?,
        None => None,
    };
    write_row(conn, message, agency_code, now)
}

/// [`enqueue`] when the caller already knows the agency the row counts for.
fn write_row(
    conn: &mut DbConnection,
    message: &Outgoing,
    agency_code: Option<String>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    outbox::insert(conn, &outbox_row(message, agency_code, now))
}

/// The outbox row of `message`, counted for `agency_code`.
fn outbox_row(message: &Outgoing, agency_code: Option<String>, now: DateTime<Utc>) -> NewOutboxRow {
    let to = message
        .to
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let digest = Sha256::digest(message.key.as_bytes());
    NewOutboxRow {
        message_key: message.key.clone(),
        template: message.template.clone(),
        channel: "email".into(),
        recipient: to.map(str::to_string),
        dossier_code: message.dossier_code.clone(),
        agency_code,
        vars: serde_json::to_string(&message.vars).unwrap_or_else(|_| "{}".into()),
        state: if to.is_some() {
            "pending"
        } else {
            "unreachable"
        }
        .into(),
        attempts: 0,
        next_attempt_at: to_db(now),
        // The local part of the Message-ID: the same on every attempt.
        message_id: hex::encode(&digest[..16]),
        created_at: to_db(now),
    }
}

/// The variables of a dossier's messages (the templates of
/// [`crate::core::notify::templates_for`]):
///
/// - `code`, `applicant_name`, `procedure_name`, `status` (in words), `status_url` (the
///   public lookup `/tra-cuu/{code}`; never the pin);
/// - `received_at`, `due_at` (the due moment after the event), `new_due_at` (the new due
///   moment of a supplement received, a resume or a re-appointment), `previous_due_at`
///   (the date a re-appointment replaces), as `HH:MM ngày dd/mm/yyyy`;
/// - `agency_name`, `agency_contact` (the receiving desk's address and telephone);
/// - `reason`, `legal_basis`, `items` (papers asked, `; `-separated), `items_html` (the
///   same as escaped `<li>` lines), `outcome` (in words), `result_number`.
pub const DOSSIER_VARS: &[&str] = &[
    "code",
    "applicant_name",
    "procedure_name",
    "status",
    "status_url",
    "received_at",
    "due_at",
    "new_due_at",
    "previous_due_at",
    "agency_name",
    "agency_contact",
    "reason",
    "legal_basis",
    "items",
    "items_html",
    "outcome",
    "result_number",
];

/// A template as configured.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailTemplate {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A message ready for its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The templates of `config/templates/`, by name.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    by_name: HashMap<String, MailTemplate>,
}

impl Templates {
    /// Reads every `*.toml` of `dir`; the templates the code sends must all be there,
    /// each with a subject, a text and an HTML body, and no unclosed placeholder.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let mut by_name = HashMap::new();
        let err = |file: &Path, key: &str, message: String| ConfigError {
            file: file.to_path_buf(),
            line: None,
            key: key.into(),
            message,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| {
            err(
                dir,
                "templates",
                format!("không đọc được thư mục mẫu thông báo: {e}"),
            )
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| err(&path, "templates", format!("không đọc được: {e}")))?;
            let t: MailTemplate = toml::from_str(&text)
                .map_err(|e| err(&path, "templates", format!("sai cú pháp: {e}")))?;
            for (key, body) in [
                ("subject", &t.subject),
                ("text", &t.text),
                ("html", &t.html),
            ] {
                if body.trim().is_empty() {
                    return Err(err(&path, key, "không được để trống".into()));
                }
                let names = crate::core::notify::placeholders(body);
                let vars: BTreeMap<String, String> =
                    names.into_iter().map(|n| (n, String::new())).collect();
                fill(body, &vars, false).map_err(|m| err(&path, key, m))?;
            }
            if t.subject.contains('\n') {
                return Err(err(&path, "subject", "tiêu đề chỉ một dòng".into()));
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            by_name.insert(name, t);
        }
        for name in REQUIRED_TEMPLATES {
            if !by_name.contains_key(*name) {
                return Err(err(
                    &dir.join(format!("{name}.toml")),
                    "templates",
                    format!("thiếu mẫu thông báo \"{name}\""),
                ));
            }
        }
        Ok(Self { by_name })
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        v.sort();
        v
    }

    pub fn get(&self, name: &str) -> Option<&MailTemplate> {
        self.by_name.get(name)
    }

    /// The message of template `name` with `vars`.
    pub fn render(&self, name: &str, vars: &BTreeMap<String, String>) -> Result<Rendered, String> {
        let t = self
            .by_name
            .get(name)
            .ok_or_else(|| format!("không có mẫu thông báo \"{name}\""))?;
        Ok(Rendered {
            subject: fill(&t.subject, vars, false)?,
            text: fill(&t.text, vars, false)?,
            html: fill(&t.html, vars, true)?,
        })
    }
}

/// What a channel is given to deliver.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    /// The recipient's address.
    pub to: &'a str,
    /// `<…@…>`, the same on every attempt of one message.
    pub message_id: String,
    pub message: &'a Rendered,
}

/// Why a channel did not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later (the server is down, busy, a timeout).
    Transient(String),
    /// Will never succeed as it is (a refused address): parked for an admin at once.
    Permanent(String),
}

/// A way to reach people: e-mail now; SMS or Zalo through an HTTP gateway later.
///
/// A channel delivers one message at a time and says whether a failure is worth a retry.
/// It must be safe to call from several threads, and should keep its connections open
/// between messages (the e-mail channel pools its SMTP connections). It is given the
/// message's stable id: a gateway that accepts an idempotency key should pass it, so that
/// a retry after a lost answer is not delivered twice.
///
/// A new channel (an SMS gateway, say) implements this trait, gets a `channel` value in
/// the outbox rows it serves, and a place in [`App::deliver_due`]'s choice of channel;
/// its templates would be short texts next to the e-mail ones.
pub trait Channel: Send + Sync {
    /// The name written in the outbox rows it serves (`email`).
    fn name(&self) -> &'static str;
    /// Delivers one message.
    fn send(&self, envelope: &Envelope<'_>) -> Result<(), SendError>;
}

/// How a batch went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub parked: usize,
    /// Rows given back untried (the lease was about to end).
    pub released: usize,
}

/// The worker's settings (`[mail]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub batch_size: u32,
    pub max_attempts: u32,
    pub retry_base_s: u32,
    pub retry_max_s: u32,
    pub lease_s: u32,
    /// Longest one message may take to send (a row is not started with less than this
    /// left of its lease).
    pub send_timeout_s: u32,
    /// The domain of the Message-IDs.
    pub domain: String,
}

impl App {
    /// The outbox rows for the event `seq` of kind `kind` just recorded on `row` (in the
    /// same transaction): what the applicant must be told, by the templates of
    /// [`templates_for`]. `data` is the event's stored payload.
    pub(crate) fn notify_event(
        &self,
        conn: &mut DbConnection,
        row: &DossierRow,
        kind: &str,
        seq: i32,
        data: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        for m in self.event_messages(row, kind, seq, data, now) {
            outbox::insert(conn, &m)?;
        }
        Ok(())
    }

    /// The outbox rows event `kind` (number `seq`) of dossier `row` sends, not yet written
    /// (a new dossier writes them with its other rows, `store::new_dossier`).
    pub(crate) fn event_messages(
        &self,
        row: &DossierRow,
        kind: &str,
        seq: i32,
        data: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Vec<NewOutboxRow> {
        let at_desk = row.current_agency == row.receiving_agency;
        let templates = templates_for(kind, &row.status, at_desk);
        if templates.is_empty() {
            return Vec::new();
        }
        let vars = self.dossier_vars(row, data);
        templates
            .iter()
            .map(|template| {
                outbox_row(
                    &Outgoing {
                        template: (*template).into(),
                        to: row.applicant_email.clone(),
                        dossier_code: Some(row.code.clone()),
                        key: message_key(&row.code, seq, template),
                        vars: vars.clone(),
                    },
                    Some(row.receiving_agency.clone()),
                    now,
                )
            })
            .collect()
    }

    /// The variables every dossier message may use ([`DOSSIER_VARS`]). Never the pin nor
    /// the ID number.
    fn dossier_vars(&self, row: &DossierRow, data: &serde_json::Value) -> BTreeMap<String, String> {
        let offset = self.settings.offset;
        let moment = |t: DateTime<FixedOffset>| t.format("%H:%M ngày %d/%m/%Y").to_string();
        let moment_db = |t: chrono::NaiveDateTime| moment(from_db(t).with_timezone(&offset));
        let mut v = BTreeMap::new();
        let mut put = |k: &str, s: String| {
            v.insert(k.to_string(), s);
        };
        put("code", row.code.clone());
        put("applicant_name", row.applicant_name.clone());
        put(
            "procedure_name",
            self.catalogue
                .get(&row.procedure_code)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| row.procedure_code.clone()),
        );
        put(
            "status",
            crate::core::dossier::Status::parse(&row.status)
                .map(|s| s.label_vi().to_string())
                .unwrap_or_else(|| row.status.clone()),
        );
        put("status_url", self.status_url(&row.code));
        put(
            "received_at",
            row.received_at.map(moment_db).unwrap_or_else(|| "—".into()),
        );
        put(
            "due_at",
            row.due_at.map(moment_db).unwrap_or_else(|| "—".into()),
        );
        let desk = self.agencies.get(&row.receiving_agency);
        put(
            "agency_name",
            desk.map(|a| a.name.clone())
                .unwrap_or_else(|| row.receiving_agency.clone()),
        );
        let contact: Vec<String> = desk
            .map(|a| {
                [
                    a.address.clone(),
                    a.phone.clone().map(|p| format!("điện thoại {p}")),
                ]
                .into_iter()
                .flatten()
                .collect()
            })
            .unwrap_or_default();
        put(
            "agency_contact",
            if contact.is_empty() {
                self.settings.return_place.clone()
            } else {
                contact.join(", ")
            },
        );
        let text = |k: &str| {
            data.get(k)
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string()
        };
        put("reason", text("reason"));
        put("legal_basis", text("legal_basis"));
        let items: Vec<String> = data
            .get("items")
            .and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        put("items", items.join("; "));
        put(
            "items_html",
            items
                .iter()
                .map(|i| format!("<li>{}</li>", crate::core::text::escape_html(i)))
                .collect::<String>(),
        );
        let new_due = data
            .get("new_due_at")
            .or_else(|| data.get("due_at"))
            .and_then(|x| x.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| moment(t.with_timezone(&offset)))
            .unwrap_or_else(|| row.due_at.map(moment_db).unwrap_or_else(|| "—".into()));
        put("new_due_at", new_due);
        put(
            "previous_due_at",
            data.get("previous_due_at")
                .and_then(|x| x.as_str())
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| moment(t.with_timezone(&offset)))
                .unwrap_or_else(|| "—".into()),
        );
        put(
            "outcome",
            match data.get("outcome").and_then(|x| x.as_str()) {
                Some("approved") => "Giải quyết (chấp thuận)".into(),
                Some("refused") => "Từ chối giải quyết".into(),
                _ => match row.status.as_str() {
                    "approved" => "Giải quyết (chấp thuận)".into(),
                    "refused" => "Từ chối giải quyết".into(),
                    _ => String::new(),
                },
            },
        );
        put(
            "result_number",
            data.get("result")
                .and_then(|r| r.get("number"))
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string(),
        );
        debug_assert_eq!(v.keys().map(String::as_str).collect::<Vec<_>>(), {
            let mut k = DOSSIER_VARS.to_vec();
            k.sort();
            k
        });
        v
    }

    /// An electronic copy of a dossier's result was attached: the applicant may download
    /// it from the status page (one `result_ready` message per dossier).
    pub(crate) fn notify_result_attached(
        &self,
        conn: &mut DbConnection,
        row: &DossierRow,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let vars = self.dossier_vars(row, &serde_json::Value::Null);
        write_row(
            conn,
            &Outgoing {
                template: "result_ready".into(),
                to: row.applicant_email.clone(),
                dossier_code: Some(row.code.clone()),
                key: message_key(&row.code, 0, "result_ready"),
                vars,
            },
            Some(row.receiving_agency.clone()),
            now,
        )?;
        Ok(())
    }

    /// Claims a batch of due rows for `worker` and sends them through `channel`; every
    /// attempt is recorded. `now` is read again before each message (sending takes time).
    pub fn deliver_due(
        &self,
        templates: &Templates,
        channel: &dyn Channel,
        delivery: &Delivery,
        worker: &str,
        now: &dyn Fn() -> DateTime<Utc>,
    ) -> StoreResult<BatchReport> {
        let start = now();
        let until = start + chrono::Duration::seconds(delivery.lease_s as i64);
        let rows = self.store.write(None, |c| {
            outbox::claim(
                c,
                worker,
                to_db(start),
                to_db(until),
                delivery.batch_size as i64,
            )
        })?;
        let mut report = BatchReport {
            claimed: rows.len(),
            ..Default::default()
        };
        let mut untried = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let t = now();
            if t + chrono::Duration::seconds(delivery.send_timeout_s as i64) > until {
                untried.extend(rows[i..].iter().map(|r| r.id));
                break;
            }
            let Some((round, attempt)) = self
                .store
                .write(None, |c| outbox::begin_attempt(c, row.id, worker, to_db(t)))?
            else {
                continue;
            };
            let result = self.send_row(templates, channel, delivery, row);
            let end = match result {
                Ok(()) => {
                    report.sent += 1;
                    AttemptEnd::Sent
                }
                Err(SendError::Permanent(e)) => {
                    report.parked += 1;
                    // An SMTP server's answer may name the recipient.
                    tracing::warn!(outbox = row.id, template = %row.template, error = %crate::telemetry::redact(&e), "notification parked (refused for good)");
                    AttemptEnd::Park { error: e }
                }
                Err(SendError::Transient(e)) if round >= delivery.max_attempts as i32 => {
                    report.parked += 1;
                    tracing::warn!(outbox = row.id, template = %row.template, attempts = round, error = %crate::telemetry::redact(&e), "notification parked after its last attempt");
                    AttemptEnd::Park { error: e }
                }
                Err(SendError::Transient(e)) => {
                    report.retried += 1;
                    let wait = retry_delay_s(round, delivery.retry_base_s, delivery.retry_max_s);
                    AttemptEnd::Retry {
                        at: to_db(now() + chrono::Duration::seconds(wait)),
                        error: e,
                    }
                }
            };
            let ended = now();
            self.store.write(None, |c| {
                outbox::end_attempt(c, row.id, attempt, to_db(ended), &end)
            })?;
        }
        if !untried.is_empty() {
            report.released = self
                .store
                .write(None, |c| outbox::release(c, &untried, worker))?;
        }
        Ok(report)
    }

    fn send_row(
        &self,
        templates: &Templates,
        channel: &dyn Channel,
        delivery: &Delivery,
        row: &OutboxRow,
    ) -> Result<(), SendError> {
        let Some(to) = row.recipient.as_deref() else {
            return Err(SendError::Permanent("không có địa chỉ nhận".into()));
        };
        let vars: BTreeMap<String, String> = serde_json::from_str(&row.vars)
            .map_err(|e| SendError::Permanent(format!("biến của thông báo không đọc được: {e}")))?;
        let message = templates
            .render(&row.template, &vars)
            .map_err(SendError::Permanent)?;
        channel.send(&Envelope {
            to,
            message_id: format!("<{}@{}>", row.message_id, delivery.domain),
            message: &message,
        })
    }

    /// `count` test messages to `to` (`motcua mail test`), each with its own key; how
    /// many were written.
    pub fn queue_test_messages(
        &self,
        to: &str,
        count: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<u32> {
        let sent_at = now
            .with_timezone(&self.settings.offset)
            .format("%H:%M:%S ngày %d/%m/%Y")
            .to_string();
        let stamp = now.timestamp_micros();
        self.store.write(None, |c| {
            let mut n = 0;
            for i in 0..count {
                let vars: BTreeMap<String, String> = [
                    ("recipient".to_string(), to.to_string()),
                    ("sent_at".to_string(), format!("{sent_at} (#{})", i + 1)),
                ]
                .into_iter()
                .collect();
                if enqueue(
                    c,
                    &Outgoing {
                        template: "test_message".into(),
                        to: Some(to.to_string()),
                        dossier_code: None,
                        key: format!("test:{stamp}:{}", i + 1),
                        vars,
                    },
                    now,
                )? {
                    n += 1;
                }
            }
            Ok::<_, StoreError>(n)
        })
    }

    /// An admin's "send again" on a parked row (audited).
    pub fn resend_parked(
        &self,
        actor: &crate::store::audit::Actor,
        id: i64,
        now: DateTime<Utc>,
    ) -> crate::error::AppResult<()> {
        self.store.write(None, |c| {
            if !outbox::unpark(c, id, to_db(now))? {
                return Ok(Err(crate::error::AppError::not_found()));
            }
            crate::store::audit::append(
                c,
                crate::store::audit::AuditEntry {
                    at: to_db(now),
                    actor,
                    action: "notification.resend",
                    entity: "outbox",
                    entity_id: &id.to_string(),
                    detail: serde_json::json!({}),
                },
            )?;
            Ok::<_, StoreError>(Ok(()))
        })?
    }

    /// The outbox's rows by state, created in `[from, to)`.
    pub fn outbox_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<OutboxCounts> {
        let rows = outbox::counts(&mut *self.store.conn()?, to_db(from), to_db(to))?;
        let mut out = OutboxCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "sent" => out.sent = n,
                "pending" => out.pending = n,
                "parked" => out.parked = n,
                "unreachable" => out.unreachable = n,
                _ => {}
            }
        }
        Ok(out)
    }

    /// Notified against not reachable (`GET /api/v1/reports/notifications`): the messages
    /// about the dossiers received by the agencies of the query, written in its period.
    pub fn notification_report(
        &self,
        caller: &crate::service::Caller,
        query: &crate::service::reports::IndicatorQuery,
    ) -> crate::error::AppResult<NotificationReport> {
        let agency = query
            .agency
            .clone()
            .unwrap_or_else(|| caller.agency.clone());
        let scope = self.report_scope(caller, &agency, query.descendants)?;
        let offset = self.settings.offset;
        let start = |d: chrono::NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(offset).single())
                .map(|t| t.with_timezone(&Utc))
        };
        let (Some(from), Some(to)) = (
            start(query.from),
            start(query.to + chrono::Duration::days(1)),
        ) else {
            return Err(crate::error::AppError::bad_request(
                "invalid_period",
                "Kỳ báo cáo không hợp lệ",
            ));
        };
        let rows =
            outbox::counts_for_agencies(&mut *self.store.conn()?, &scope, to_db(from), to_db(to))?;
        let mut counts = OutboxCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "sent" => counts.sent = n,
                "pending" => counts.pending = n,
                "parked" => counts.parked = n,
                "unreachable" => counts.unreachable = n,
                _ => {}
            }
        }
        let with_address = counts.sent + counts.pending + counts.parked;
        Ok(NotificationReport {
            agency,
            descendants: query.descendants,
            from: query.from,
            to: query.to,
            counts,
            notified: counts.sent,
            not_reachable: counts.unreachable,
            reachable_rate: (with_address + counts.unreachable > 0).then(|| {
                (1000.0 * with_address as f64 / (with_address + counts.unreachable) as f64).round()
                    / 10.0
            }),
        })
    }

    /// Parked rows, newest first (at most `limit`), for the admins.
    pub fn parked_notifications(&self, limit: i64) -> StoreResult<Vec<NotificationView>> {
        let rows = outbox::in_state(&mut *self.store.conn()?, "parked", limit)?;
        Ok(rows
            .into_iter()
            .map(|r| self.notification_view(r))
            .collect())
    }

    /// A dossier's notifications, in order.
    pub fn notifications_of(&self, code: &str) -> StoreResult<Vec<NotificationView>> {
        let rows = outbox::of_dossier(&mut *self.store.conn()?, code)?;
        Ok(rows
            .into_iter()
            .map(|r| self.notification_view(r))
            .collect())
    }

    fn notification_view(&self, r: OutboxRow) -> NotificationView {
        let offset = self.settings.offset;
        NotificationView {
            id: r.id,
            template: r.template,
            recipient: r.recipient,
            dossier_code: r.dossier_code,
            state: r.state,
            attempts: r.attempts,
            created_at: from_db(r.created_at).with_timezone(&offset),
            sent_at: r.sent_at.map(|t| from_db(t).with_timezone(&offset)),
            last_error: r.last_error,
        }
    }
}

/// How many notifications are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OutboxCounts {
    /// Delivered to the recipient's mail server.
    pub sent: i64,
    /// Waiting for their first or next attempt.
    pub pending: i64,
    /// Failed for good; waiting for an admin.
    pub parked: i64,
    /// No address to send to (*không liên lạc được*).
    pub unreachable: i64,
}

impl OutboxCounts {
    /// Notified (sent) and not reachable, the two the report sets side by side.
    pub fn total(&self) -> i64 {
        self.sent + self.pending + self.parked + self.unreachable
    }
}

/// Notified against not reachable over an agency's dossiers and a period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct NotificationReport {
    /// The report agency's code.
    pub agency: String,
    /// The agencies below it are counted too.
    pub descendants: bool,
    /// The period's first day (local).
    pub from: chrono::NaiveDate,
    /// The period's last day, included.
    pub to: chrono::NaiveDate,
    /// Every message by state.
    pub counts: OutboxCounts,
    /// Sent to the applicant's mail server.
    pub notified: i64,
    /// No address to send to.
    pub not_reachable: i64,
    /// Messages with an address ÷ all messages, in percent (one decimal).
    pub reachable_rate: Option<f64>,
}

/// A notification as shown to staff and admins.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotificationView {
    pub id: i64,
    pub template: String,
    pub recipient: Option<String>,
    pub dossier_code: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub created_at: DateTime<FixedOffset>,
    pub sent_at: Option<DateTime<FixedOffset>>,
    pub last_error: Option<String>,
}

/// A channel shared by the worker threads.
pub type SharedChannel = Arc<dyn Channel>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped template renders; a dossier's uses only the variables the code gives,
    /// links the status page and never asks for the pin.
    #[test]
    fn every_shipped_template_renders() {
        let t = Templates::load(Path::new("config/templates")).expect("shipped templates load");
        let dossier: Vec<&str> = crate::core::notify::REQUIRED_TEMPLATES
            .iter()
            .copied()
            .filter(|n| *n != "test_message")
            .collect();
        for name in t.names() {
            let m = t.get(name).unwrap();
            let mut vars = BTreeMap::new();
            for body in [&m.subject, &m.text, &m.html] {
                for p in crate::core::notify::placeholders(body) {
                    if dossier.contains(&name) {
                        assert!(
                            DOSSIER_VARS.contains(&p.as_str()),
                            "{name}: unknown variable {p}"
                        );
                    }
                    vars.insert(p.clone(), format!("<{p} & co>"));
                }
            }
            let r = t
                .render(name, &vars)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!r.subject.contains("{{") && !r.text.contains("{{") && !r.html.contains("{{"));
            assert!(
                r.html.contains("lang=\"vi\""),
                "{name}: the HTML says it is Vietnamese"
            );
            if dossier.contains(&name) {
                for body in [&r.text, &r.html] {
                    assert!(
                        body.contains("<status_url & co>")
                            || body.contains("&lt;status_url &amp; co&gt;"),
                        "{name}: no status link"
                    );
                    assert!(
                        body.contains("code & co") || body.contains("code &amp; co"),
                        "{name}: no code"
                    );
                    assert!(!body.to_lowercase().contains("pin"), "{name}: a pin");
                }
                // Text variables are escaped in the HTML.
                assert!(!r.html.contains("<code & co>"), "{name}");
            }
        }
        for name in crate::core::notify::REQUIRED_TEMPLATES {
            assert!(t.get(name).is_some(), "{name}");
        }
    }

    #[test]
    fn a_missing_template_or_an_unclosed_placeholder_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dossier_received.toml"),
            "subject = \"x\"\ntext = \"{{code\"\nhtml = \"y\"\n",
        )
        .unwrap();
        let e = Templates::load(dir.path()).unwrap_err();
        assert_eq!(e.key, "text");
        std::fs::write(
            dir.path().join("dossier_received.toml"),
            "subject = \"x\"\ntext = \"{{code}}\"\nhtml = \"y\"\n",
        )
        .unwrap();
        let e = Templates::load(dir.path()).unwrap_err();
        assert!(e.message.contains("thiếu mẫu thông báo"), "{}", e.message);
    }
}
