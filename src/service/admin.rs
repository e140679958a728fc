//! Administration (*quản trị hệ thống*, issue #16, admin role): staff accounts, portal
//! clients, the catalogue's versions as loaded, the audit trail's check. Every command is
//! one transaction that writes an audit record with the administrator as actor; the
//! checks an administrator must not get round (their own account, a portal client through
//! the staff forms) are here, not only in the pages.

use chrono::{DateTime, Utc};

use super::accounts::NewUser;
use super::Role;
use crate::app::App;
use crate::core::catalogue::Procedure;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::store::audit::{self, Actor, AuditEntry};
use crate::store::users::{self, AccountRow};
use crate::store::{from_db, to_db, StoreError};

/// An account as the administration pages show it (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub agency_code: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Where the morning digest goes (*cảnh báo sớm*); none: no digest.
    pub email: Option<String>,
}

impl AccountView {
    fn of(r: AccountRow) -> Option<Self> {
        Some(Self {
            role: Role::parse(&r.role)?,
            username: r.username,
            full_name: r.full_name,
            agency_code: r.agency_code,
            disabled: r.disabled,
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
            email: r.email,
        })
    }

    pub fn is_portal(&self) -> bool {
        self.role == Role::Portal
    }
}

/// One record of the audit trail, for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecordView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
}

/// What the check of the audit trail found (`motcua audit verify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    pub records: i64,
    /// (record id, what is wrong), in English as the CLI prints them.
    pub problems: Vec<(i64, String)>,
    /// Checkpoints read, and the records not yet covered by one (docs/audit.md).
    pub checkpoints: i64,
    pub unsealed: i64,
    /// The last checkpoint: its number, moment and running hash, to compare with what
    /// the server logged.
    pub last_checkpoint: Option<(i64, DateTime<Utc>, String)>,
}

/// One version of a catalogued procedure with its definition as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub version: i32,
    pub procedure: Procedure,
    pub valid_from: DateTime<Utc>,
    /// `None`: the version in force.
    pub valid_to: Option<DateTime<Utc>>,
}

fn unknown_account(username: &str) -> AppError {
    AppError::new(
        ErrorKind::NotFound,
        "unknown_account",
        format!("Không có tài khoản \"{username}\""),
    )
}

fn not_yourself(what: &str) -> AppError {
    AppError::invalid(
        "own_account",
        format!("Không thể tự {what} tài khoản của chính mình; nhờ một quản trị viên khác"),
    )
}

impl App {
    /// Every account, staff and portal clients, by username.
    pub fn accounts(&self) -> AppResult<Vec<AccountView>> {
        Ok(self
            .store
            .list_accounts()?
            .into_iter()
            .filter_map(AccountView::of)
            .collect())
    }

    /// One account; `unknown_account` (404) when there is none.
    pub fn account(&self, username: &str) -> AppResult<AccountView> {
        let mut conn = self.store.conn()?;
        match users::account(&mut conn, username) {
            Ok(r) => AccountView::of(r).ok_or_else(AppError::internal),
            Err(StoreError::NotFound) => Err(unknown_account(username)),
            Err(e) => Err(e.into()),
        }
    }

    /// A staff account (not a portal client: [`App::add_portal_client`]), audited as
    /// `user.create`, with the password rule of `motcua user add`.
    pub fn add_staff_account(
        &self,
        new: &NewUser<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        if !Role::STAFF.contains(&new.role) {
            return Err(AppError::invalid(
                "invalid_role",
                "Chọn một vai trò của cán bộ (cổng dịch vụ công được thêm ở trang Cổng dịch vụ công)",
            ));
        }
        self.create_user(new, actor, now)
    }

    /// Gives a staff account another role and agency in one transaction, audited as
    /// `user.update` with both values before and after. Its sessions and tokens end (they
    /// were issued for the old role). `Ok(false)`: nothing to change, nothing written.
    pub fn change_staff_account(
        &self,
        username: &str,
        role: Role,
        agency: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<bool> {
        if actor.username == username {
            return Err(not_yourself("đổi vai trò, cơ quan của"));
        }
        if !Role::STAFF.contains(&role) {
            return Err(AppError::invalid(
                "invalid_role",
                "Chọn một vai trò của cán bộ",
            ));
        }
        if self.agencies.get(agency).is_none() {
            return Err(AppError::invalid(
                "unknown_agency",
                format!("Cơ quan {agency} không có trong config/agencies.toml"),
            ));
        }
        let at = to_db(now);
        let changed = self
            .store
            .write(None, |conn| {
                let before = users::account(conn, username)?;
                if before.role == "portal" {
                    return Err(StoreError::Conflict(
                        "Tài khoản này là cổng dịch vụ công, không phải cán bộ".into(),
                    ));
                }
                if before.role == role.as_str() && before.agency_code == agency {
                    return Ok(false);
                }
                users::set_role_agency(conn, username, role.as_str(), agency, at)?;
                crate::store::sessions::end_sessions_of(conn, username)?;
                audit::append(
                    conn,
                    AuditEntry {
                        actor,
                        at,
                        action: "user.update",
                        entity: "user",
                        entity_id: username,
                        detail: serde_json::json!({
                            "role": {"from": before.role, "to": role.as_str()},
                            "agency": {"from": before.agency_code, "to": agency},
                        }),
                    },
                )?;
                Ok::<_, StoreError>(true)
            })
            .map_err(|e| match e {
                StoreError::NotFound => unknown_account(username),
                StoreError::Conflict(m) => AppError::invalid("not_staff", m),
                other => other.into(),
            })?;
        self.forget_account(username);
        Ok(changed)
    }

    /// The account must be staff (a portal client has its own page), and not the
    /// administrator's own.
    fn staff_other_than(&self, username: &str, actor: &Actor, what: &str) -> AppResult<()> {
        if actor.username == username {
            return Err(not_yourself(what));
        }
        if self.account(username)?.is_portal() {
            return Err(AppError::invalid(
                "not_staff",
                "Tài khoản này là cổng dịch vụ công: thu hồi hoặc cấp khóa mới ở trang Cổng dịch vụ công",
            ));
        }
        Ok(())
    }

    /// Disables or enables a staff account of someone else (audited `user.disable` /
    /// `user.enable`); disabling ends its web sessions at once and its tokens on the
    /// next request here (within `auth.account_cache_s` on other processes).
    pub fn set_staff_disabled(
        &self,
        username: &str,
        disabled: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        self.staff_other_than(username, actor, if disabled { "khóa" } else { "mở khóa" })?;
        self.set_user_disabled(username, disabled, actor, now)
    }

    /// Sets a new password typed by the administrator for someone else's staff account
    /// (audited `user.password`, the rule of `motcua user passwd`); its sessions end.
    pub fn reset_staff_password(
        &self,
        username: &str,
        password: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        self.staff_other_than(username, actor, "đặt lại mật khẩu cho")?;
        self.set_user_password(username, password, actor, now)
    }

    /// Registers a portal client (`motcua portal add`): its generated secret, to be shown
    /// once (only its hash is stored).
    pub fn add_portal_client(
        &self,
        client_id: &str,
        name: &str,
        agency: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<String> {
        let secret = super::accounts::generate_client_secret()?;
        self.create_user(
            &NewUser {
                username: client_id,
                full_name: name,
                role: Role::Portal,
                agency,
                password: &secret,
                email: None,
            },
            actor,
            now,
        )?;
        Ok(secret)
    }

    /// Revokes a portal client for good (audited `portal.revoke`): it can no longer get a
    /// token, and its tokens stop like a disabled account's. The row stays for the trail;
    /// its client id is not given again.
    pub fn revoke_portal_client(
        &self,
        client_id: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let at = to_db(now);
        self.store
            .write(None, |conn| {
                let a = users::account(conn, client_id)?;
                if a.role != "portal" {
                    return Err(StoreError::Conflict(format!(
                        "{client_id} không phải tài khoản cổng dịch vụ công"
                    )));
                }
                if a.disabled {
                    return Err(StoreError::Conflict(format!(
                        "Cổng {client_id} đã bị thu hồi"
                    )));
                }
                users::set_disabled(conn, client_id, true, at)?;
                audit::append(
                    conn,
                    AuditEntry {
                        actor,
                        at,
                        action: "portal.revoke",
                        entity: "user",
                        entity_id: client_id,
                        detail: serde_json::json!({}),
                    },
                )?;
                Ok::<_, StoreError>(())
            })
            .map_err(|e| match e {
                StoreError::NotFound => unknown_account(client_id),
                StoreError::Conflict(m) => AppError::invalid("not_a_portal", m),
                other => other.into(),
            })?;
        self.forget_account(client_id);
        Ok(())
    }

    /// A new secret for an active portal client ([`App::rotate_portal_secret`]); a revoked
    /// one stays revoked.
    pub fn rotate_active_portal_secret(
        &self,
        client_id: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> AppResult<String> {
        let a = self.account(client_id)?;
        if !a.is_portal() || a.disabled {
            return Err(AppError::invalid(
                "not_a_portal",
                format!("{client_id} không phải cổng dịch vụ công đang hoạt động"),
            ));
        }
        self.rotate_portal_secret(client_id, actor, now)
    }

    /// Walks the audit trail's hash chain as `motcua audit verify` does, then records that
    /// the check was run and what it found (`audit.verify`).
    pub fn verify_audit_trail(&self, actor: &Actor, now: DateTime<Utc>) -> AppResult<AuditCheck> {
        let report = self.store.verify_audit_chain(&self.keys.audit)?;
        let check = AuditCheck {
            records: report.records,
            problems: report
                .problems
                .into_iter()
                .map(|p| (p.id, p.problem))
                .collect(),
            checkpoints: report.checkpoints,
            unsealed: report.unsealed,
            last_checkpoint: report
                .last_checkpoint
                .map(|c| (c.seq, crate::store::from_db(c.at), c.chain_hash)),
        };
        let at = to_db(now);
        self.store.write(None, |conn| {
            audit::append(
                conn,
                AuditEntry {
                    actor,
                    at,
                    action: "audit.verify",
                    entity: "audit",
                    entity_id: "",
                    detail: serde_json::json!({
                        "records": check.records,
                        "problems": check.problems.len(),
                    }),
                },
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(check)
    }

    /// The last `limit` records of the audit trail, newest first.
    pub fn recent_audit(&self, limit: i64) -> AppResult<Vec<AuditRecordView>> {
        Ok(self
            .store
            .recent_audit(limit)?
            .into_iter()
            .map(|r| AuditRecordView {
                id: r.id,
                at: from_db(r.at),
                actor: r.actor,
                role: r.role,
                action: r.action,
                entity: r.entity,
                entity_id: r.entity_id,
            })
            .collect())
    }

    /// The version in force of every active procedure, by code, as loaded from
    /// config/catalogue.
    pub fn catalogue_entries(&self) -> AppResult<Vec<CatalogueEntry>> {
        self.current_procedures()?
            .into_iter()
            .map(|v| entry(v.version, &v.definition, v.valid_from, v.valid_to))
            .collect()
    }

    /// Every version of procedure `code`, oldest first; 404 when unknown.
    pub fn catalogue_history(&self, code: &str) -> AppResult<Vec<CatalogueEntry>> {
        self.procedure_versions(code)?
            .into_iter()
            .map(|v| entry(v.version, &v.definition, v.valid_from, v.valid_to))
            .collect()
    }
}

fn entry(
    version: i32,
    definition: &str,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
) -> AppResult<CatalogueEntry> {
    let procedure: Procedure = serde_json::from_str(definition).map_err(|e| {
        tracing::error!(error = %e, "a stored procedure definition does not parse");
        AppError::internal()
    })?;
    Ok(CatalogueEntry {
        version,
        procedure,
        valid_from,
        valid_to,
    })
}
