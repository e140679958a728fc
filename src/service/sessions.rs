//! Sessions of the staff web pages (issue #14): a random id in an `HttpOnly` cookie, only
//! its SHA-256 stored. Login goes through the same accounts and guessing rule as the API.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::{Caller, Role};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::store::{from_db, to_db};

/// A session found by its cookie.
#[derive(Debug, Clone)]
pub enum SessionState {
    /// It holds: the caller and the token of its forms.
    Open { caller: Caller, csrf: String },
    /// It existed and ended (idle, too old, account disabled): the page says so.
    Ended,
    /// No such session.
    Unknown,
}

/// A new session: the cookie's value (shown only to the browser) and its CSRF token.
pub struct NewSession {
    pub id: String,
    pub csrf: String,
    pub caller: Caller,
}

fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// How long a session may go unrecorded: `last_seen_at` is written at most this often.
const TOUCH_EVERY_S: i64 = 60;

impl App {
    /// The token every form of session `id` carries (HMAC of the id: nothing stored).
    pub fn csrf_token(&self, id: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.keys.csrf).expect("any key length");
        mac.update(b"session\n");
        mac.update(id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..20])
    }

    /// The token of a form shown before login, bound to the browser's pre-login cookie.
    pub fn login_csrf_token(&self, nonce: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.keys.csrf).expect("any key length");
        mac.update(b"login\n");
        mac.update(nonce.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..20])
    }

    /// The token of a citizen's form (`/tra-cuu`), bound to the browser's cookie there.
    pub fn citizen_csrf_token(&self, nonce: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.keys.csrf).expect("any key length");
        mac.update(b"citizen\n");
        mac.update(nonce.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..20])
    }

    /// Whether `token` is the one of session (or pre-login nonce) `id`, in constant time.
    pub fn csrf_holds(&self, expected: &str, token: &str) -> bool {
        use subtle::ConstantTimeEq;
        expected.len() == token.len() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }

    /// Logs a member of staff in: an open session. Portal accounts have no pages.
    pub fn open_session(
        &self,
        username: &str,
        password: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<NewSession> {
        let user = self.authenticate(username, password, false, address, now)?;
        let role = Role::parse(&user.role).ok_or_else(AppError::internal)?;
        let id = random_id()?;
        self.store.insert_session(
            &id_hash(&id),
            &user.username,
            user.token_version,
            to_db(now),
        )?;
        tracing::info!(user = %user.username, role = role.as_str(), "session opened");
        Ok(NewSession {
            csrf: self.csrf_token(&id),
            id,
            caller: Caller {
                username: user.username,
                full_name: user.full_name,
                role,
                agency: user.agency_code,
                address: Some(address.to_string()),
            },
        })
    }

    /// The session of cookie value `id` at `now`: open (and marked as used), ended, or
    /// unknown. An ended session's row is deleted by [`App::sweep_sessions`] (at every
    /// login); disabling an account or changing its password deletes its rows at once.
    pub fn session_state(&self, id: &str, now: DateTime<Utc>) -> AppResult<SessionState> {
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(SessionState::Unknown);
        }
        let hash = id_hash(id);
        let Some(row) = self.store.session(&hash)? else {
            return Ok(SessionState::Unknown);
        };
        let idle = now - from_db(row.last_seen_at);
        let age = now - from_db(row.created_at);
        let role = Role::parse(&row.role);
        let open = row.account_holds
            && idle < self.settings.session_idle
            && age < self.settings.session_absolute
            && role.is_some_and(|r| r != Role::Portal);
        if !open {
            // The row stays until the next sweep, so that every request after the end
            // (a form sent, a check in the background) says the session has ended.
            return Ok(SessionState::Ended);
        }
        if idle.num_seconds() >= TOUCH_EVERY_S {
            self.store.touch_session(&hash, to_db(now))?;
        }
        Ok(SessionState::Open {
            csrf: self.csrf_token(id),
            caller: Caller {
                username: row.username,
                full_name: row.full_name,
                role: role.expect("checked"),
                agency: row.agency_code,
                address: None,
            },
        })
    }

    /// Logs out: the session's row is deleted.
    pub fn close_session(&self, id: &str) -> AppResult<()> {
        self.store.delete_session(&id_hash(id))?;
        Ok(())
    }

    /// Deletes sessions that ended without a logout.
    pub fn sweep_sessions(&self, now: DateTime<Utc>) -> AppResult<usize> {
        Ok(self.store.sweep_sessions(
            to_db(now - self.settings.session_idle),
            to_db(now - self.settings.session_absolute),
        )?)
    }
}

/// 32 random bytes, hex.
pub fn random_id() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| AppError::internal())?;
    Ok(hex::encode(bytes))
}
