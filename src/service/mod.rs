//! Use cases: each one transaction over the store, calling the pure core. Called from the
//! HTTP layer (on the blocking pool) and from CLI commands. What handlers and pages receive
//! are [`views`], never store rows.

pub mod accounts;
pub mod actions;
pub mod admin;
pub mod archive;
pub mod audit;
pub mod catalogue;
pub mod digest;
pub mod documents;
pub mod dossiers;
pub mod exports;
pub mod forms;
pub mod group;
pub(crate) mod guesses;
pub mod import;
pub mod intake;
pub mod lookup;
pub mod notices;
pub mod notify;
pub mod petitions;
pub mod processing;
pub mod queue;
pub mod reports;
pub mod seed;
pub mod sessions;
pub mod views;

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::store::audit::Actor;

/// A role (*vai trò*); each account has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Cán bộ Bộ phận Một cửa: receives dossiers and returns results.
    Clerk,
    /// Chuyên viên: handles dossiers.
    Official,
    /// Lãnh đạo: approves.
    Leader,
    /// Quản trị hệ thống.
    Admin,
    /// Thanh tra: reads everything in scope, changes nothing.
    Inspector,
    /// A portal client (Cổng dịch vụ công) pushing online dossiers.
    Portal,
    /// The applicant (*người nộp hồ sơ*), proven by the dossier's code and pin; never an
    /// account (not accepted by [`Role::parse`]).
    Applicant,
}

impl Role {
    pub const STAFF: [Role; 5] = [
        Role::Clerk,
        Role::Official,
        Role::Leader,
        Role::Admin,
        Role::Inspector,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Official => "official",
            Role::Leader => "leader",
            Role::Admin => "admin",
            Role::Inspector => "inspector",
            Role::Portal => "portal",
            Role::Applicant => "applicant",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Role::Clerk,
            Role::Official,
            Role::Leader,
            Role::Admin,
            Role::Inspector,
            Role::Portal,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The authenticated caller of a use case.
#[derive(Debug, Clone)]
pub struct Caller {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub agency: String,
    /// The client's address, for the audit trail.
    pub address: Option<String>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor {
            username: self.username.clone(),
            role: self.role.as_str().to_string(),
            address: self.address.clone(),
        }
    }
}

impl App {
    /// The agencies whose dossiers `caller` may see: their own and those below it.
    pub fn scope_of(&self, caller: &Caller) -> Vec<String> {
        self.agencies
            .descendants(&caller.agency)
            .into_iter()
            .map(|a| a.code.clone())
            .collect()
    }
}
