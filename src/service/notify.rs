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

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::store::{DbConnection, StoreResult};

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

/// Writes `message` to the outbox on `conn`, in the caller's transaction.
pub fn enqueue(conn: &mut DbConnection, message: &Outgoing, now: DateTime<Utc>) -> StoreResult<()> {
    // The outbox table and the worker land next (issue #17); until then nothing is sent.
    let _ = (conn, message, now);
    Ok(())
}
