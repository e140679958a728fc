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
        } = *new;
        check_username(username)?;
        check_password_strength(password)?;
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
                    detail: serde_json::json!({"role": role.as_str(), "agency": agency, "full_name": full_name}),
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
        Ok(())
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
        Ok(())
    }

    /// Checks credentials and issues a token. `portal` selects client credentials (only
    /// portal accounts) or a staff login (every other role). Unknown account, wrong
    /// password and disabled account look the same to the caller.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        portal: bool,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Token> {
        let window = Duration::minutes(i64::from(self.settings.login_window_minutes));
        let at = to_db(now);
        let mut user_key = username.trim().to_lowercase();
        if crate::core::text::check_key(&user_key).is_err() {
            // No account has such a name; a NUL must not reach the database either.
            user_key = "\u{FFFD}".into();
        }
        let counts = self.store.failures(
            &[("login_account", &user_key), ("login_address", address)],
            at,
            window,
        )?;
        let (by_user, by_addr) = (counts[0], counts[1]);
        if by_user >= self.settings.login_failures_per_account
            || by_addr >= self.settings.login_failures_per_address
        {
            return Err(AppError::too_many());
        }
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
            self.store.record_failures(
                &[("login_account", &user_key), ("login_address", address)],
                at,
                window,
            )?;
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
        self.store.clear_failures("login_account", &user_key)?;
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

    /// The caller a bearer token stands for; `None` if it is invalid or expired.
    pub fn verify_token(&self, token: &str, now: DateTime<Utc>) -> Option<Caller> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.validate_exp = false;
        let data = decode::<Claims>(token, &DecodingKey::from_secret(&self.keys.token), &v).ok()?;
        if data.claims.exp <= now.timestamp() {
            return None;
        }
        Some(Caller {
            username: data.claims.sub,
            full_name: data.claims.name,
            role: data.claims.role,
            agency: data.claims.agency,
            address: None,
        })
    }
}
