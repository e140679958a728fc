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
}

impl Store {
    pub fn find_user(&self, username: &str) -> StoreResult<Option<UserRow>> {
        let mut conn = self.conn()?;
        Ok(users::table
            .find(username)
            .select(UserRow::as_select())
            .first(&mut conn)
            .optional()?)
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

/// Replaces the password hash; `NotFound` when there is no such account.
pub fn set_password(
    conn: &mut DbConnection,
    username: &str,
    hash: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let n = diesel::update(users::table.find(username))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Disables (or re-enables) an account; `NotFound` when there is no such account.
pub fn set_disabled(
    conn: &mut DbConnection,
    username: &str,
    disabled: bool,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let n = diesel::update(users::table.find(username))
        .set((users::disabled.eq(disabled), users::updated_at.eq(now)))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
