//! Accounts: staff users and portal clients.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::users;
use super::{DbConnection, Store, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub agency_code: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Bumped when the account is disabled or its password changes: tokens carrying an
    /// older version are refused.
    pub token_version: i32,
    /// Where the staff digest is sent (*cảnh báo sớm*, issue #17); none: no digest.
    pub email: Option<String>,
}

/// What a token is checked against on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub role: String,
    pub agency_code: String,
    pub disabled: bool,
    pub token_version: i32,
}

impl Store {
    /// The state of an account that its tokens are checked against; `None` if it does
    /// not exist.
    pub fn account_state(&self, username: &str) -> StoreResult<Option<AccountState>> {
        let mut conn = self.conn()?;
        let row: Option<(String, String, bool, i32)> = users::table
            .find(username)
            .select((
                users::role,
                users::agency_code,
                users::disabled,
                users::token_version,
            ))
            .first(&mut conn)
            .optional()?;
        Ok(row.map(
            |(role, agency_code, disabled, token_version)| AccountState {
                role,
                agency_code,
                disabled,
                token_version,
            },
        ))
    }

    pub fn find_user(&self, username: &str) -> StoreResult<Option<UserRow>> {
        let mut conn = self.conn()?;
        Ok(users::table
            .find(username)
            .select(UserRow::as_select())
            .first(&mut conn)
            .optional()?)
    }

    /// The enabled staff (clerks, officials, leaders) of `agency`: (username, full name,
    /// role), by name.
    pub fn staff_of(&self, agency: &str) -> StoreResult<Vec<(String, String, String)>> {
        let mut conn = self.conn()?;
        Ok(users::table
            .filter(users::agency_code.eq(agency))
            .filter(users::disabled.eq(false))
            .filter(users::role.eq_any(["clerk", "official", "leader"]))
            .order((users::full_name, users::username))
            .select((users::username, users::full_name, users::role))
            .load(&mut conn)?)
    }

    /// Whether an enabled account with role `admin` exists.
    pub fn has_admin(&self) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let n: i64 = users::table
            .filter(users::role.eq("admin"))
            .filter(users::disabled.eq(false))
            .count()
            .get_result(&mut conn)?;
        Ok(n > 0)
    }
}

/// Inserts a new account; `Conflict` when the name is taken.
pub fn insert_user(conn: &mut DbConnection, row: &UserRow) -> StoreResult<()> {
    let exists: i64 = users::table
        .filter(users::username.eq(&row.username))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Err(StoreError::Conflict(format!(
            "tài khoản {} đã tồn tại",
            row.username
        )));
    }
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The role of an account; `NotFound` when there is no such account.
pub fn role_of(conn: &mut DbConnection, username: &str) -> StoreResult<String> {
    users::table
        .find(username)
        .select(users::role)
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Replaces the password hash (and bumps the token version); `NotFound` when there is no such account.
pub fn set_password(
    conn: &mut DbConnection,
    username: &str,
    hash: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let n = diesel::update(users::table.find(username))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(now),
            users::token_version.eq(users::token_version + 1),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Disables (or re-enables) an account, bumping the token version; `NotFound` when there is no such account.
pub fn set_disabled(
    conn: &mut DbConnection,
    username: &str,
    disabled: bool,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let n = diesel::update(users::table.find(username))
        .set((
            users::disabled.eq(disabled),
            users::updated_at.eq(now),
            users::token_version.eq(users::token_version + 1),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// An account as the administration pages list it: everything but the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AccountRow {
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub agency_code: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub email: Option<String>,
}

impl Store {
    /// Every account, staff and portal clients, by username.
    pub fn list_accounts(&self) -> StoreResult<Vec<AccountRow>> {
        let mut conn = self.conn()?;
        Ok(users::table
            .order(users::username)
            .select(AccountRow::as_select())
            .load(&mut conn)?)
    }
}

/// One account (inside the caller's transaction); `NotFound` when there is no such account.
pub fn account(conn: &mut DbConnection, username: &str) -> StoreResult<AccountRow> {
    users::table
        .find(username)
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Gives an account another role and agency, bumping the token version (its tokens and
/// sessions were issued for the old ones); `NotFound` when there is no such account.
pub fn set_role_agency(
    conn: &mut DbConnection,
    username: &str,
    role: &str,
    agency: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let n = diesel::update(users::table.find(username))
        .set((
            users::role.eq(role),
            users::agency_code.eq(agency),
            users::updated_at.eq(now),
            users::token_version.eq(users::token_version + 1),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets (or clears) the e-mail address of an account; `NotFound` when there is no such
/// account. Tokens stay valid: the address grants nothing.
pub fn set_email(
    conn: &mut DbConnection,
    username: &str,
    email: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let n = diesel::update(users::table.find(username))
        .set((users::email.eq(email), users::updated_at.eq(now)))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A member of staff a digest may be sent to.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct RecipientRow {
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub agency_code: String,
    pub email: Option<String>,
}

impl Store {
    /// The enabled accounts with one of `roles` and an e-mail address, by agency and
    /// username: who the morning digest goes to.
    pub fn digest_recipients(&self, roles: &[&str]) -> StoreResult<Vec<RecipientRow>> {
        let mut conn = self.conn()?;
        Ok(users::table
            .filter(users::disabled.eq(false))
            .filter(users::role.eq_any(roles))
            .filter(users::email.is_not_null())
            .order((users::agency_code, users::username))
            .select(RecipientRow::as_select())
            .load(&mut conn)?)
    }

    /// One account as a digest recipient (with or without an address); `None` when
    /// there is no such account.
    pub fn recipient(&self, username: &str) -> StoreResult<Option<RecipientRow>> {
        let mut conn = self.conn()?;
        Ok(users::table
            .find(username)
            .select(RecipientRow::as_select())
            .first(&mut conn)
            .optional()?)
    }
}
