//! The pure core: plain functions over plain data. No database, no clock (callers pass
//! `now`), no I/O. Everything that can be computed without the outside world lives here
//! and carries the densest tests.

pub mod applicant;
pub mod calendar;
pub mod catalogue;
pub mod code;
pub mod deadline;
pub mod desk;
pub mod dossier;
pub mod forwarded;
pub mod indicators;
pub mod lunar;
pub mod machine;
pub mod notify;
pub mod petition;
pub mod pin;
pub mod route;
pub mod text;
pub mod throttle;
pub mod warning;
