//! Accounts and tokens: staff log in with a password, portals with a client secret; both
//! get a short-lived HS256 access token. Failures are throttled per account and per
//! address, across every process on the database.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Caller, Role};
use crate::app::App;
use crate::core::text;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Actor, AuditEntry};
use crate::store::users::{self, UserRow};
use crate::store::{to_db, StoreError};

/// An account to create.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub role: Role,
    pub agency: &'a str,
    /// The password, or a portal's client secret.
    pub password: &'a str,
    /// Staff: where the morning digest is sent (*cảnh báo sớm*, issue #17); checked with
    /// [`crate::core::applicant::check_email`].
    pub email: Option<&'a str>,
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub role: Role,
    pub agency: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// The account's `token_version` when the token was issued.
    pub ver: i32,
}

/// Whether the claims still stand for the account: it exists, is enabled, has the same
/// token version, role and agency.
fn claims_hold(claims: &Claims, account: Option<&users::AccountState>) -> bool {
    account.is_some_and(|a| {
        !a.disabled
            && a.token_version == claims.ver
            && a.role == claims.role.as_str()
            && a.agency_code == claims.agency
    })
}

const ISSUER: &str = "motcua";

/// A token as returned by the login endpoints.
#[derive(Debug, Clone, Serialize)]
pub struct Token {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// Hashes a password or client secret with Argon2id (random salt).
pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::internal()
        })
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid hash of nothing in particular, verified against when the account does not
/// exist so that both cases take the same time.
fn dummy_hash() -> &'static str {
    use std::sync::OnceLock;
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("motcua-no-such-account").unwrap_or_default())
}

fn check_password_strength(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "weak_password",
            format!("Mật khẩu phải dài ít nhất {MIN_PASSWORD_CHARS} ký tự"),
        ));
    }
    if password.chars().count() > 1024 {
        return Err(AppError::invalid("weak_password", "Mật khẩu quá dài"));
    }
    Ok(())
}

fn check_username(username: &str) -> AppResult<()> {
    let ok = (3..=64).contains(&username.len())
        && username.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "invalid_username",
            "Tên đăng nhập gồm 3–64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch dưới, gạch ngang",
        ))
    }
}

/// A staff e-mail address as typed: blank is none; otherwise it must be one
/// ([`crate::core::applicant::check_email`]), error `invalid_email`.
pub fn check_staff_email(raw: Option<&str>) -> AppResult<Option<String>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::core::applicant::check_email(s)
            .map(Some)
            .map_err(|_| {
                AppError::invalid(
                    "invalid_email",
                    "Địa chỉ thư điện tử không hợp lệ (ví dụ ten@coquan.gov.vn)",
                )
            }),
    }
}

fn no_such_account(e: StoreError, username: &str) -> AppError {
    match e {
        StoreError::NotFound => AppError::new(
            crate::error::ErrorKind::NotFound,
            "unknown_account",
            format!("Không có tài khoản \"{username}\""),
        ),
        other => other.into(),
    }
}

/// A new portal client secret: 24 random bytes, hex.
pub fn generate_client_secret() -> AppResult<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a client secret");
        AppError::internal()
    })?;
    Ok(hex::encode(bytes))
}

/// The account used for actions taken from the command line.
pub fn cli_actor() -> Actor {
    Actor {
        username: format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "root".into())
        ),
        role: "admin".into(),
        address: None,
    }
}

impl App {
    /// Creates an account (staff or portal) with a password or client secret.
    pub fn create_user(
        &self,
        new: &NewUser<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let NewUser {
            username,
            full_name,
            role,
            agency,
            password,
            email,
        } = *new;
        check_username(username)?;
        check_password_strength(password)?;
        let email = check_staff_email(email)?;
        let full_name = text::name(full_name, 100)
            .map_err(|e| AppError::invalid("invalid_full_name", e.message("Họ tên", 100)))?
            .ok_or_else(|| AppError::invalid("invalid_full_name", "Họ tên không được để trống"))?;
        if self.agencies.get(agency).is_none() {
            return Err(AppError::invalid(
                "unknown_agency",
                format!("Cơ quan {agency} không có trong config/agencies.toml"),
            ));
        }
        let hash = hash_password(password)?;
        let at = to_db(now);
        let row = UserRow {
            username: username.to_string(),
            full_name: full_name.clone(),
            role: role.as_str().to_string(),
            agency_code: agency.to_string(),
            password_hash: hash,
            disabled: false,
            created_at: at,
            updated_at: at,
            token_version: 0,
            email: email.clone(),
        };
        self.store.write(None, |conn| {
            users::insert_user(conn, &row)?;
            audit::append(
                conn,
                AuditEntry {
                    actor,
                    at,
                    action: "user.create",
                    entity: "user",
                    entity_id: username,
                    detail: serde_json::json!({"role": role.as_str(), "agency": agency, "full_name": full_name, "email": email}),
                },
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    pub fn set_user_password(
        &self,
        username: &str,
        password: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        check_password_strength(password)?;
        let hash = hash_password(password)?;
        let at = to_db(now);
        self.store
            .write(None, |conn| {
                users::set_password(conn, username, &hash, at)?;
                crate::store::sessions::end_sessions_of(conn, username)?;
                audit::append(
                    conn,
                    AuditEntry {
                        actor,
                        at,
                        action: "user.password",
                        entity: "user",
                        entity_id: username,
                        detail: serde_json::json!({}),
                    },
                )?;
                Ok::<_, StoreError>(())
            })
            .map_err(|e| no_such_account(e, username))?;
        self.forget_account(username);
        Ok(())
    }

    /// Replaces a portal client's secret with a generated one (returned, shown once);
    /// its tokens stop working like after a password change.
    pub fn rotate_portal_secret(
        &self,
        client_id: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<String> {
        let secret = generate_client_secret()?;
        let hash = hash_password(&secret)?;
        let at = to_db(now);
        self.store
            .write(None, |conn| {
                let role = users::role_of(conn, client_id)?;
                if role != "portal" {
                    return Err(StoreError::Conflict(format!(
                        "{client_id} không phải tài khoản cổng dịch vụ công"
                    )));
                }
                users::set_password(conn, client_id, &hash, at)?;
                audit::append(
                    conn,
                    AuditEntry {
                        actor,
                        at,
                        action: "portal.rotate",
                        entity: "user",
                        entity_id: client_id,
                        detail: serde_json::json!({}),
                    },
                )?;
                Ok::<_, StoreError>(())
            })
            .map_err(|e| match e {
                StoreError::Conflict(m) => AppError::invalid("not_a_portal", m),
                other => no_such_account(other, client_id),
            })?;
        self.forget_account(client_id);
        Ok(secret)
    }

    pub fn set_user_disabled(
        &self,
        username: &str,
        disabled: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let at = to_db(now);
        self.store
            .write(None, |conn| {
                users::set_disabled(conn, username, disabled, at)?;
                crate::store::sessions::end_sessions_of(conn, username)?;
                audit::append(
                    conn,
                    AuditEntry {
                        actor,
                        at,
                        action: if disabled {
                            "user.disable"
                        } else {
                            "user.enable"
                        },
                        entity: "user",
                        entity_id: username,
                        detail: serde_json::json!({}),
                    },
                )?;
                Ok::<_, StoreError>(())
            })
            .map_err(|e| no_such_account(e, username))?;
        self.forget_account(username);
        Ok(())
    }

    /// Sets or clears (`None` or blank) the e-mail address of a staff account, where its
    /// morning digest goes (*cảnh báo sớm*, issue #17); audited as `user.email` with the
    /// address before and after. `Ok(false)`: the same address, nothing written. Refused
    /// for a portal client (`not_staff`) and for an address that is not one
    /// (`invalid_email`).
    pub fn set_user_email(
        &self,
        username: &str,
        email: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<bool> {
        let email = check_staff_email(email)?;
        let at = to_db(now);
        self.store
            .write(None, |conn| {
                let before = users::account(conn, username)?;
                if before.role == Role::Portal.as_str() {
                    return Err(StoreError::Conflict(
                        "Tài khoản này là cổng dịch vụ công, không phải cán bộ".into(),
                    ));
                }
                if before.email == email {
                    return Ok(false);
                }
                users::set_email(conn, username, email.as_deref(), at)?;
                audit::append(
                    conn,
                    AuditEntry {
                        actor,
                        at,
                        action: "user.email",
                        entity: "user",
                        entity_id: username,
                        detail: serde_json::json!({"email": {"from": before.email, "to": email}}),
                    },
                )?;
                Ok::<_, StoreError>(true)
            })
            .map_err(|e| match e {
                StoreError::Conflict(m) => AppError::invalid("not_staff", m),
                other => no_such_account(other, username),
            })
    }

    /// Checks a login's credentials under the guessing rule; the account on success.
    /// `portal` selects client credentials (only portal accounts) or a staff login (every
    /// other role). Unknown account, wrong password and disabled account look the same to
    /// the caller.
    pub fn authenticate(
        &self,
        username: &str,
        password: &str,
        portal: bool,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<crate::store::users::UserRow> {
        let mut user_key = username.trim().to_lowercase();
        if crate::core::text::check_key(&user_key).is_err() {
            // No account has such a name; a NUL must not reach the database either.
            user_key = "\u{FFFD}".into();
        }
        let guess = super::guesses::Guess::login(self, &user_key, address);
        let pair_failed = self.hold_guess(&guess, now)?;
        let user = if user_key.len() <= 64 {
            self.store.find_user(&user_key)?
        } else {
            None
        };
        let ok = match &user {
            Some(u) => {
                let good = verify_password(password, &u.password_hash);
                good && !u.disabled && ((u.role == "portal") == portal)
            }
            None => {
                let _ = verify_password(password, dummy_hash());
                false
            }
        };
        if !ok {
            self.failed_guess(&guess, now)?;
            tracing::info!(portal, "login refused");
            return Err(AppError::unauthorized(
                "invalid_credentials",
                if portal {
                    "Mã ứng dụng hoặc khóa bí mật không đúng"
                } else {
                    "Tên đăng nhập hoặc mật khẩu không đúng"
                },
            ));
        }
        let user = user.expect("checked");
        self.good_guess(&guess, pair_failed)?;
        Ok(user)
    }

    /// Checks credentials ([`App::authenticate`]) and issues a token.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        portal: bool,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Token> {
        let user = self.authenticate(username, password, portal, address, now)?;
        let role = Role::parse(&user.role).ok_or_else(AppError::internal)?;
        let ttl = i64::from(self.settings.token_ttl_minutes) * 60;
        let claims = Claims {
            sub: user.username.clone(),
            name: user.full_name.clone(),
            role,
            agency: user.agency_code.clone(),
            iat: now.timestamp(),
            exp: now.timestamp() + ttl,
            iss: ISSUER.into(),
            ver: user.token_version,
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.keys.token),
        )
        .map_err(|e| {
            tracing::error!(error = %e, "token signing failed");
            AppError::internal()
        })?;
        tracing::info!(user = %user.username, role = role.as_str(), "login");
        Ok(Token {
            access_token: token,
            token_type: "Bearer",
            expires_in: ttl,
        })
    }

    /// The claims of a token whose signature, issuer and expiry hold; `None` otherwise.
    /// The account is not checked: see [`App::cached_check`] and [`App::check_account`].
    pub fn decode_token(&self, token: &str, now: DateTime<Utc>) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.validate_exp = false;
        let data = decode::<Claims>(token, &DecodingKey::from_secret(&self.keys.token), &v).ok()?;
        (data.claims.exp > now.timestamp()).then_some(data.claims)
    }

    /// Whether the claims still stand, from an account read at most `account_cache_s`
    /// ago; `None` when it must be read again ([`App::check_account`]).
    pub fn cached_check(&self, claims: &Claims, now: DateTime<Utc>) -> Option<bool> {
        let ttl = Duration::seconds(i64::from(self.settings.account_cache_s));
        let entries = self
            .accounts
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (read_at, account) = entries.get(&claims.sub)?;
        let age = now - *read_at;
        (age >= Duration::zero() && age < ttl).then(|| claims_hold(claims, account.as_ref()))
    }

    /// Reads the account from the store (and keeps it for `account_cache_s`); whether
    /// the claims still stand.
    pub fn check_account(&self, claims: &Claims, now: DateTime<Utc>) -> AppResult<bool> {
        let account = self.store.account_state(&claims.sub)?;
        let holds = claims_hold(claims, account.as_ref());
        if self.settings.account_cache_s > 0 {
            let mut entries = self
                .accounts
                .entries
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if entries.len() > 100_000 {
                entries.clear();
            }
            entries.insert(claims.sub.clone(), (now, account));
        }
        Ok(holds)
    }

    /// Drops an account from this process's cache (after a change made here).
    pub fn forget_account(&self, username: &str) {
        self.accounts
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(username);
    }

    /// The caller a bearer token stands for; `None` if it is invalid, expired, or no
    /// longer stands for its account (disabled, password changed, removed). Reads the
    /// store when the cache is stale: call it on a blocking thread.
    pub fn verify_token(&self, token: &str, now: DateTime<Utc>) -> AppResult<Option<Caller>> {
        let Some(claims) = self.decode_token(token, now) else {
            return Ok(None);
        };
        let holds = match self.cached_check(&claims, now) {
            Some(h) => h,
            None => self.check_account(&claims, now)?,
        };
        Ok(holds.then(|| caller_of(claims)))
    }
}

/// The caller named by claims that hold.
pub fn caller_of(claims: Claims) -> Caller {
    Caller {
        username: claims.sub,
        full_name: claims.name,
        role: claims.role,
        agency: claims.agency,
        address: None,
    }
}
