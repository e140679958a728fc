//! Sessions of the web pages: only the SHA-256 of the browser's random id is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{users, web_sessions};
use super::{DbConnection, Store, StoreResult};

/// A live session with its account, as read on every page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub agency_code: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    /// The account is enabled and its token version is the session's.
    pub account_holds: bool,
}

/// A session row joined with its account's columns.
type Joined = (
    String,
    i32,
    NaiveDateTime,
    NaiveDateTime,
    String,
    String,
    String,
    bool,
    i32,
);

impl Store {
    pub fn insert_session(
        &self,
        id_hash: &str,
        username: &str,
        token_version: i32,
        now: NaiveDateTime,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::insert_into(web_sessions::table)
            .values((
                web_sessions::id_hash.eq(id_hash),
                web_sessions::username.eq(username),
                web_sessions::token_version.eq(token_version),
                web_sessions::created_at.eq(now),
                web_sessions::last_seen_at.eq(now),
            ))
            .execute(&mut conn)?;
        Ok(())
    }

    /// The session with this id hash and its account, if the row exists.
    pub fn session(&self, id_hash: &str) -> StoreResult<Option<SessionRow>> {
        let mut conn = self.conn()?;
        let row: Option<Joined> = web_sessions::table
            .inner_join(users::table)
            .filter(web_sessions::id_hash.eq(id_hash))
            .select((
                web_sessions::username,
                web_sessions::token_version,
                web_sessions::created_at,
                web_sessions::last_seen_at,
                users::full_name,
                users::role,
                users::agency_code,
                users::disabled,
                users::token_version,
            ))
            .first(&mut conn)
            .optional()?;
        Ok(row.map(
            |(
                username,
                ver,
                created_at,
                last_seen_at,
                full_name,
                role,
                agency_code,
                disabled,
                user_ver,
            )| {
                SessionRow {
                    username,
                    full_name,
                    role,
                    agency_code,
                    created_at,
                    last_seen_at,
                    account_holds: !disabled && ver == user_ver,
                }
            },
        ))
    }

    /// Marks the session as used at `now`.
    pub fn touch_session(&self, id_hash: &str, now: NaiveDateTime) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::update(web_sessions::table.find(id_hash))
            .set(web_sessions::last_seen_at.eq(now))
            .execute(&mut conn)?;
        Ok(())
    }

    pub fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::delete(web_sessions::table.find(id_hash)).execute(&mut conn)?;
        Ok(())
    }

    /// Deletes sessions idle since `idle_before` or opened before `opened_before`.
    pub fn sweep_sessions(
        &self,
        idle_before: NaiveDateTime,
        opened_before: NaiveDateTime,
    ) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        Ok(diesel::delete(
            web_sessions::table.filter(
                web_sessions::last_seen_at
                    .lt(idle_before)
                    .or(web_sessions::created_at.lt(opened_before)),
            ),
        )
        .execute(&mut conn)?)
    }
}

/// Ends every session of an account (inside the caller's transaction): disabling it or
/// changing its password.
pub fn end_sessions_of(conn: &mut DbConnection, username: &str) -> StoreResult<usize> {
    Ok(
        diesel::delete(web_sessions::table.filter(web_sessions::username.eq(username)))
            .execute(conn)?,
    )
}
